namespace LlmAspire.Cli.Errors;

/// <summary>
/// A mistake the user can fix, found by a command: its message is the one line <c>llmaspire</c> prints (what is wrong
/// and how to fix it), <see cref="ExitCode"/> the process exit code. <see cref="CliErrors"/> prints it; commands only throw.
/// </summary>
internal sealed class UserErrorException : Exception
{
    /// <summary>A runtime failure (exit code 1).</summary>
    public UserErrorException(string message)
        : this(message, ExitCodes.Failure)
    {
    }

    /// <summary>A failure with the given exit code.</summary>
    public UserErrorException(string message, int exitCode)
        : base(message) => ExitCode = exitCode;

    /// <summary>Wraps the library exception that revealed the mistake (shown with --verbose).</summary>
    public UserErrorException(string message, Exception innerException)
        : base(message, innerException) => ExitCode = ExitCodes.Failure;

    /// <summary>Creates the exception (exit code 1).</summary>
    public UserErrorException()
        : this("The command failed.")
    {
    }

    /// <summary>The process exit code: <see cref="ExitCodes.Usage"/> for a wrong command line, else <see cref="ExitCodes.Failure"/>.</summary>
    public int ExitCode { get; }

    /// <summary>A wrong command line (exit code 2): a bad option value, a path that does not exist.</summary>
    public static UserErrorException Usage(string message) => new(message, ExitCodes.Usage);
}
