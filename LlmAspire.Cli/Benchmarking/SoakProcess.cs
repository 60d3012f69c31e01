using System.Globalization;
using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>A process's resident memory at one moment, read from <c>/proc/PID/status</c> (<c>VmRSS</c>).</summary>
public sealed record SoakProcess(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("rss_kib")] long? RssKiB)
{
    /// <summary>Reads process <paramref name="pid"/>; <see cref="RssKiB"/> is null when it is gone (or not on Linux).</summary>
    public static SoakProcess Read(int pid)
    {
        long? rss = null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                // "VmRSS:    123456 kB"
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return new SoakProcess(pid, Describe(pid), rss);
    }

    /// <summary>The program's assembly (or executable) name and its <c>--urls</c>, from <c>/proc/PID/cmdline</c>.</summary>
    private static string Describe(int pid)
    {
        try
        {
            var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            var program = arguments.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal)) ?? arguments.FirstOrDefault() ?? "?";
            var urls = Array.IndexOf(arguments, "--urls") is >= 0 and var at && at + 1 < arguments.Length ? " " + arguments[at + 1] : string.Empty;
            return Path.GetFileNameWithoutExtension(program) + urls;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
