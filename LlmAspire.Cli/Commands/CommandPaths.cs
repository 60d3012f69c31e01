using LlmAspire.Cli.Errors;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// Checks of the paths a command was given, made before it starts working: a path that does not exist, or an output
/// that cannot be written, is a <see cref="UserErrorException"/> naming the path and the fix.
/// </summary>
internal static class CommandPaths
{
    /// <summary>An input file that must exist; returns its full path.</summary>
    public static string ExistingFile(FileInfo file, string what, string fix)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (Directory.Exists(file.FullName))
        {
            throw UserErrorException.Usage($"{what} {file.FullName} is a folder, not a file; {fix}");
        }

        if (!file.Exists)
        {
            throw UserErrorException.Usage($"{what} {file.FullName} does not exist; {fix}");
        }

        return file.FullName;
    }

    /// <summary>An input folder that must exist; returns its full path.</summary>
    public static string ExistingFolder(DirectoryInfo folder, string what, string fix)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (File.Exists(folder.FullName))
        {
            throw UserErrorException.Usage($"{what} {folder.FullName} is a file, not a folder; {fix}");
        }

        if (!folder.Exists)
        {
            throw UserErrorException.Usage($"{what} {folder.FullName} does not exist; {fix}");
        }

        return folder.FullName;
    }

    /// <summary>A model folder to read (<c>--model</c>, <c>--in</c>, <c>inspect FOLDER</c>); returns its full path.</summary>
    public static string ModelFolder(DirectoryInfo folder, string option) =>
        ExistingFolder(folder, "model folder", $"pass {option} a folder written by `llmaspire model convert`");

    /// <summary>
    /// A folder to write into: it, or the nearest folder above it that exists (the command creates the rest), must be
    /// a folder this process may write to. Nothing is created. Returns its full path.
    /// </summary>
    public static string WritableFolder(DirectoryInfo folder, string option)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.TrimEndingDirectorySeparator(folder.FullName);
        string existing = path;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                throw UserErrorException.Usage(existing == path
                    ? $"output folder {path} is a file; pass {option} a folder"
                    : $"cannot write output folder {path}: {existing} is a file; pass {option} a folder you may write to");
            }

            existing = Path.GetDirectoryName(existing) ?? throw UserErrorException.Usage($"cannot write output folder {path}; pass {option} a folder you may write to");
        }

        try
        {
            string probe = Path.Combine(existing, ".llmaspire-write-test-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot write output folder {path} ({ex.Message}); pass {option} a folder you may write to", ex);
        }

        return path;
    }

    /// <summary>A file to write (a result, a report): a folder of that name is refused; the file's folder is created.</summary>
    public static string WritableFile(FileInfo file, string option)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (Directory.Exists(file.FullName))
        {
            throw UserErrorException.Usage($"output file {file.FullName} is a folder; pass {option} a file name");
        }

        Directory.CreateDirectory(WritableFolder(file.Directory!, option));
        return file.FullName;
    }
}
