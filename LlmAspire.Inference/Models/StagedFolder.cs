namespace LlmAspire.Inference.Models;

/// <summary>
/// Writes a derived model folder (quantized, pruned) beside its final place and moves it there whole, so a server or a
/// later command never reads half a folder, and a failure leaves nothing behind.
/// </summary>
internal static class StagedFolder
{
    /// <summary>
    /// Runs <paramref name="write"/> on a fresh staging folder next to <paramref name="output"/>, then replaces
    /// <paramref name="output"/> with it; on any exception the staging folder is removed and <paramref name="output"/> is untouched.
    /// </summary>
    public static T Write<T>(string output, Func<string, T> write)
    {
        string staging = output + ".partial-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        try
        {
            T result = write(staging);
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }

            Directory.Move(staging, output);
            return result;
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    /// <summary>
    /// Copies every file under <paramref name="source"/> into <paramref name="destination"/> at the same relative path,
    /// except those whose relative path ('/'-separated) is in <paramref name="skip"/>: what the derivation rewrote.
    /// </summary>
    public static void CopyFiles(string source, string destination, IReadOnlySet<string> skip)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            if (!skip.Contains(relative.Replace(Path.DirectorySeparatorChar, '/')))
            {
                string target = Path.Combine(destination, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }
}
