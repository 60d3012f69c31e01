using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using LlmAspire.Inference.Engine;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Cli.Errors;

/// <summary>
/// The one place where failures become what the user reads: one line on standard error, <c>error: …</c>, naming
/// the problem and the fix, and an exit code (<see cref="ExitCodes"/>). The stack trace follows only with
/// <c>--verbose</c>. Commands throw (<see cref="UserErrorException"/>, or whatever the libraries throw); they never print errors.
/// </summary>
internal static class CliErrors
{
    /// <summary>Writes <paramref name="exception"/> as one line (plus its trace when <paramref name="verbose"/>) and returns the exit code.</summary>
    public static int Report(Exception exception, TextWriter error, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(error);
        (string message, int exitCode) = Describe(exception);
        error.WriteLine("error: " + OneLine(message));
        if (verbose)
        {
            error.WriteLine(exception.ToString());
        }

        error.Flush();
        return exitCode;
    }

    /// <summary>The message and exit code for an exception: a user error, a library exception the user can act on, or a bug.</summary>
    public static (string Message, int ExitCode) Describe(Exception exception) => exception switch
    {
        UserErrorException user => (user.Message, user.ExitCode),
        OperationCanceledException => ("cancelled.", ExitCodes.Cancelled),
        ContextLengthExceededException context => (
            $"the prompt ({context.PromptTokens} tokens) plus --max-tokens {context.MaxTokens} exceed the model's context of {context.Context} positions; "
            + (context.PromptTooLong ? "shorten the prompt." : "shorten the prompt or lower --max-tokens."),
            ExitCodes.Usage),
        EntryPointNotFoundException or DllNotFoundException => (
            $"{exception.Message} The CLI carries ONNX Runtime's CPU provider; use --execution-provider cpu or auto.", ExitCodes.Failure),
        UnauthorizedAccessException access => ($"{access.Message} Choose a path you may write to, or change its permissions.", ExitCodes.Failure),
        FileNotFoundException or DirectoryNotFoundException => (exception.Message, ExitCodes.Failure),
        JsonException json => ($"invalid JSON{(json.LineNumber is long line ? $" at line {line + 1}" : string.Empty)}: {json.Message}", ExitCodes.Failure),
        InvalidProtocolBufferException protobuf => ($"not a valid ONNX model: {protobuf.Message}", ExitCodes.Failure),
        OnnxRuntimeException onnx => ($"ONNX Runtime cannot run the model: {onnx.Message}", ExitCodes.Failure),
        Microsoft.ML.OnnxRuntimeGenAI.OnnxRuntimeGenAIException genai => ($"ONNX Runtime GenAI cannot run the model: {genai.Message}", ExitCodes.Failure),
        InvalidDataException or NotSupportedException or FormatException or IOException or HttpRequestException => (exception.Message, ExitCodes.Failure),
        _ => ($"unexpected {exception.GetType().Name}: {exception.Message} (rerun with --verbose for the stack trace)", ExitCodes.Failure),
    };

    /// <summary>
    /// The line for a command line the parser rejected: its errors, each naming the option it concerns, and where help
    /// is (System.CommandLine itself would print the errors over several lines and then the whole help).
    /// </summary>
    public static string UsageLine(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var errors = new List<string>();
        foreach (ParseError parseError in parse.Errors)
        {
            string message = OneLine(parseError.Message).TrimEnd('.');
            if (parseError.SymbolResult is OptionResult { Option.Name: { } name } && !message.Contains(name, StringComparison.Ordinal))
            {
                message = $"{name}: {message}";
            }

            if (!errors.Contains(message))
            {
                errors.Add(message);
            }
        }

        string command = string.Join(' ', CommandPath(parse.CommandResult));
        return $"error: {string.Join("; ", errors)} (see `{command} --help`)";
    }

    private static IEnumerable<string> CommandPath(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult command)
            {
                names.Push(command.Parent is null ? "llmaspire" : command.Command.Name);
            }
        }

        return names;
    }

    /// <summary>Joins a multi-line message (System.CommandLine's lists, ONNX Runtime's reports) into one line.</summary>
    private static string OneLine(string message)
    {
        var line = new StringBuilder(message.Length);
        foreach (string part in message.Split('\n'))
        {
            string trimmed = part.Trim();
            if (trimmed.Length > 0)
            {
                line.Append(line.Length > 0 ? " " : string.Empty).Append(trimmed);
            }
        }

        return line.Length > 0 ? line.ToString() : "(no message)";
    }
}
