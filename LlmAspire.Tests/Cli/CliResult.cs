namespace LlmAspire.Tests.Cli;

/// <summary>What one run of <c>llmaspire</c> printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The non-empty lines of standard error.</summary>
    public IReadOnlyList<string> ErrorLines => [.. Error.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];
}
