using System.CommandLine;
using System.CommandLine.Invocation;

namespace LlmAspire.Cli.Errors;

/// <summary>
/// A command's action behind <see cref="CliErrors"/>: whatever it throws becomes one line on the invocation's error
/// writer and an exit code, whoever invokes the command (<see cref="CliApplication"/>, or a test's own root command).
/// </summary>
internal sealed class GuardedAction(Func<ParseResult, CancellationToken, Task<int>> action) : AsynchronousCommandLineAction
{
    /// <inheritdoc />
    public override async Task<int> InvokeAsync(ParseResult parseResult, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        try
        {
            return await action(parseResult, cancellationToken);
        }
        catch (Exception ex)
        {
            return CliErrors.Report(ex, parseResult.InvocationConfiguration.Error, CliApplication.IsVerbose(parseResult));
        }
    }
}
