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

    private static readonly Lock s_gate = new();

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
        // Rewritten in place (/etc/hosts is often a bind mount, which a rename cannot replace), but never truncated
        // first: every other test resolves "localhost" through this file meanwhile, and File.WriteAllLines' moment of
        // an empty file failed one of them (CI: "Name or service not known (localhost:12344)"). Only the bytes from
        // the first difference on are written, then the length set, so the lines before ours never change.
        lock (s_gate)
        {
            var old = File.ReadAllBytes(HostsPath);
            var text = System.Text.Encoding.UTF8.GetString(old);
            var kept = (text.EndsWith('\n') ? text[..^1] : text)
                .Split('\n')
                .Where(line => !line.EndsWith(_marker, StringComparison.Ordinal));
            var updated = System.Text.Encoding.UTF8.GetBytes(string.Concat(kept.Concat(lines).Select(line => line + "\n")));
            var same = old.AsSpan().CommonPrefixLength(updated);
            using var stream = new FileStream(HostsPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            stream.Position = same;
            stream.Write(updated, same, updated.Length - same);
            stream.SetLength(updated.Length);
        }
    }
}
