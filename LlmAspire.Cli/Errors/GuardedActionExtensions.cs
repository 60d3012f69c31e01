using System.CommandLine;

namespace LlmAspire.Cli.Errors;

/// <summary><c>SetAction</c> for <c>llmaspire</c>'s commands: the action runs as a <see cref="GuardedAction"/>.</summary>
internal static class GuardedActionExtensions
{
    /// <summary>Sets an asynchronous action whose failures <see cref="CliErrors"/> reports.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Action = new GuardedAction(action);
    }

    /// <summary>Sets a synchronous action whose failures <see cref="CliErrors"/> reports.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, int> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(action);
        command.Action = new GuardedAction((parse, _) => Task.FromResult(action(parse)));
    }
}
