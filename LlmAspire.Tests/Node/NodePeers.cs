using System.Diagnostics;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Node;

/// <summary>
/// The JavaScript peers in LlmAspire.Tests/Node (<c>@huggingface/jinja</c> as the chat-template oracle, the
/// <c>openai</c> npm client): installed once per test run with <c>npm ci</c> from the committed lock file, then run
/// as <c>node SCRIPT</c> with JSON on standard input. Node.js and npm must be on PATH (Debian: <c>apt-get install
/// nodejs npm</c>; .ci/run installs them) — a missing Node is a failure that says so, never a silent skip.
/// </summary>
internal static class NodePeers
{
    private static readonly Lazy<string> s_directory = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>LlmAspire.Tests/Node with its node_modules installed.</summary>
    public static string Directory => s_directory.Value;

    /// <summary>Runs <c>node <paramref name="script"/></c> (a path relative to <see cref="Directory"/>) with <paramref name="stdin"/>; returns standard output, or throws with standard error on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string script, string stdin, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (exitCode, stdout, stderr) = await RunProcessAsync("node", [script], Directory, stdin, environment, timeout ?? TimeSpan.FromSeconds(60), cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"node {script} exited with {exitCode}: {stderr}");
        }

        return stdout;
    }

    private static string Install()
    {
        var directory = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Node");
        var marker = Path.Combine(directory, "node_modules", ".package-lock.json");
        var lockFile = Path.Combine(directory, "package-lock.json");
        if (File.Exists(marker) && File.GetLastWriteTimeUtc(marker) >= File.GetLastWriteTimeUtc(lockFile))
        {
            return directory;
        }

        var (exitCode, _, stderr) = RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], directory, null, null, TimeSpan.FromMinutes(5), CancellationToken.None)
            .GetAwaiter().GetResult();
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {directory} failed ({exitCode}): {stderr}");
        }

        return directory;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunProcessAsync(
        string fileName, IReadOnlyList<string> arguments, string directory, string? stdin, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"'{fileName}' is not on PATH ({ex.Message}). The tests run Node.js peers: install Node.js 18+ and npm (Debian: apt-get install nodejs npm).", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken);
            }

            process.StandardInput.Close();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timer.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} ran longer than {timeout}.");
            }

            return (process.ExitCode, await stdout, await stderr);
        }
    }
}
