namespace LlmAspire.Cli.Errors;

/// <summary>The process exit codes of <c>llmaspire</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The command ran and failed: a corrupt file, a model that does not load, a failed write.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: an unknown option, a bad value, a path that does not exist.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
