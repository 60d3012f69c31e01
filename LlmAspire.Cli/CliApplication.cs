using System.CommandLine;
using System.CommandLine.Invocation;
using LlmAspire.Cli.Commands;
using LlmAspire.Cli.Errors;

namespace LlmAspire.Cli;

/// <summary>
/// <c>llmaspire</c>: the command tree and its one entry point. A command line the parser rejects is one line on
/// standard error and exit code 2; a failing command is one line and exit code 1 (<see cref="CliErrors"/>);
/// <c>--verbose</c>, accepted anywhere, adds the stack trace.
/// </summary>
internal static class CliApplication
{
    /// <summary>The global <c>--verbose</c> option.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On failure, print the stack trace after the error line",
        Recursive = true,
    };

    /// <summary>Builds the whole command tree.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("LlmAspire command-line tool: convert, inspect and run models.")
        {
            ModelCommands.Create(),
            GenerateCommand.Create(),
            KubernetesCommand.Create(),
            new Command("bench", "Benchmarks.") { BenchQuantizationCommand.Create(), BenchCompressionCommand.Create(), BenchEngineCommand.Create(), BenchProfileCommand.Create(), BenchServeCommand.Create(), BenchServeCompareCommand.Create(), BenchSoakCommand.Create(), BenchGrammarCommand.Create(), BenchSamplerCommand.Create() },
        };
        root.Options.Add(Verbose);
        return root;
    }

    /// <summary>Runs <c>llmaspire</c> with <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/> (the console by default).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        output ??= Console.Out;
        error ??= Console.Error;
        ParseResult? parse = null;
        try
        {
            parse = CreateRootCommand().Parse(args);
            if (parse.Action is ParseErrorAction)
            {
                await error.WriteLineAsync(CliErrors.UsageLine(parse));
                return ExitCodes.Usage;
            }

            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (Exception ex)
        {
            // Commands are guarded themselves; this catches what fails outside them (a validator, the parser).
            return CliErrors.Report(ex, error, parse is null ? args.Contains(Verbose.Name) : IsVerbose(parse));
        }
    }

    /// <summary>Whether <c>--verbose</c> was given.</summary>
    public static bool IsVerbose(ParseResult parse) =>
        parse.GetResult(Verbose) is { } result && result.Tokens.All(t => bool.TryParse(t.Value, out _)) && result.GetValueOrDefault<bool>();
}
