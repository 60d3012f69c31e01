using LlmAspire.Cli;

namespace LlmAspire.Tests.Cli;

/// <summary>Runs <c>llmaspire</c> in process through its entry point, <see cref="CliApplication.RunAsync"/>, capturing both writers.</summary>
internal static class CliRunner
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exitCode = await CliApplication.RunAsync(args, output, error).WaitAsync(Timeout);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }
}
