using System.Net;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>
/// A test-only name in <c>/etc/hosts</c> that the system resolver (<c>getaddrinfo</c>, files before DNS) answers with the
/// addresses given, as a Kubernetes headless Service's name answers with its ready pods. Only the lines this entry
/// wrote (marked with its name) are ever touched; dispose removes them, whatever the test did.
/// </summary>
internal sealed class HostsFileEntry : IDisposable
{
    public const string HostsPath = "/etc/hosts";

    private readonly string _marker;

    private HostsFileEntry(string name)
    {
        Name = name;
        _marker = $"# llmaspire-test {name}";
    }

    /// <summary>The name: unique per entry, under the reserved <c>.test</c> domain so no real resolver answers it.</summary>
    public string Name { get; }

    /// <summary>Whether this process may write <c>/etc/hosts</c> (the tests run as root here and in CI).</summary>
    public static bool IsWritable()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(HostsPath))
        {
            return false;
        }

        try
        {
            using var stream = File.Open(HostsPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            return true;
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary>Adds a fresh name resolving to <paramref name="addresses"/>.</summary>
    public static HostsFileEntry Add(string prefix, IEnumerable<IPAddress> addresses)
    {
        var entry = new HostsFileEntry($"{prefix}-{Guid.NewGuid():N}.llmaspire.test");
        entry.Set(addresses);
        return entry;
    }

    /// <summary>Makes the name resolve to exactly <paramref name="addresses"/>, in this order.</summary>
    public void Set(IEnumerable<IPAddress> addresses) =>
        Write(addresses.Select(address => $"{address} {Name} {_marker}"));

    public void Dispose() => Write([]);

    private void Write(IEnumerable<string> lines)
    {
        // Rewritten in place: /etc/hosts is often a bind mount, which a rename cannot replace.
        var kept = File.ReadAllLines(HostsPath).Where(line => !line.EndsWith(_marker, StringComparison.Ordinal));
        File.WriteAllLines(HostsPath, [.. kept, .. lines]);
    }
}
