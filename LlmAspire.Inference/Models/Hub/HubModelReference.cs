using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// A model on a Hugging Face-compatible hub, written <c>hf:owner/repo[/subfolder][@revision]</c>
/// (for example <c>hf:karpathy/tinyllamas/stories260K</c>); the revision defaults to <c>main</c>.
/// </summary>
public sealed partial class HubModelReference : IEquatable<HubModelReference>
{
    /// <summary>The prefix that marks a hub reference.</summary>
    public const string Scheme = "hf:";

    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary>The accepted form, for error messages.</summary>
    public const string Form = "hf:owner/repo[/subfolder][@revision]";

    private HubModelReference(string owner, string repository, string subfolder, string revision)
    {
        Owner = owner;
        Repository = repository;
        Subfolder = subfolder;
        Revision = revision;
    }

    /// <summary>The user or organisation that owns the repository.</summary>
    public string Owner { get; }

    /// <summary>The repository name.</summary>
    public string Repository { get; }

    /// <summary>The folder inside the repository, '/'-separated; empty for the repository root.</summary>
    public string Subfolder { get; }

    /// <summary>A branch, tag or commit.</summary>
    public string Revision { get; }

    /// <summary><c>owner/repo</c>.</summary>
    public string RepositoryId => $"{Owner}/{Repository}";

    /// <summary>The model's name, hence the served model id: the last subfolder segment, else the repository name.</summary>
    public string Name => Subfolder.Length == 0
        ? Repository
        : IsGgufFile ? Path.GetFileNameWithoutExtension(Subfolder) : Subfolder[(Subfolder.LastIndexOf('/') + 1)..];

    /// <summary>The reference names a single GGUF file (<c>hf:owner/repo/file.gguf</c>) rather than a folder.</summary>
    public bool IsGgufFile => Subfolder.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="value"/> starts with <see cref="Scheme"/> (it may still be malformed).</summary>
    public static bool IsHubReference([NotNullWhen(true)] string? value) =>
        value is not null && value.TrimStart().StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="value"/>; a malformed reference is a <see cref="FormatException"/> naming the accepted form.</summary>
    public static HubModelReference Parse(string value) =>
        TryParse(value, out var reference, out var error)
            ? reference
            : throw new FormatException($"'{value}' is not a hub model reference ({Form}): {error}");

    /// <summary>Parses <paramref name="value"/>, returning false when it is malformed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out HubModelReference? reference) =>
        TryParse(value, out reference, out _);

    /// <inheritdoc />
    public override string ToString() =>
        Scheme + RepositoryId
        + (Subfolder.Length == 0 ? "" : "/" + Subfolder)
        + (Revision == DefaultRevision ? "" : "@" + Revision);

    /// <inheritdoc />
    public bool Equals(HubModelReference? other) =>
        other is not null
        && Owner == other.Owner && Repository == other.Repository
        && Subfolder == other.Subfolder && Revision == other.Revision;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as HubModelReference);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Owner, Repository, Subfolder, Revision);

    private static bool TryParse(string? value, [NotNullWhen(true)] out HubModelReference? reference, out string error)
    {
        reference = null;
        var text = value?.Trim();
        if (!IsHubReference(text))
        {
            error = $"it does not start with '{Scheme}'.";
            return false;
        }

        text = text[Scheme.Length..];
        var revision = DefaultRevision;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            revision = text[(at + 1)..];
            text = text[..at];
            if (!RevisionPattern().IsMatch(revision) || revision.Contains("..", StringComparison.Ordinal) || revision.StartsWith('/') || revision.EndsWith('/'))
            {
                error = $"the revision '{revision}' is not a branch, tag or commit name.";
                return false;
            }
        }

        var segments = text.Split('/');
        if (segments.Length < 2)
        {
            error = "it names no repository (owner/repo).";
            return false;
        }

        if (!NamePattern().IsMatch(segments[0]) || !NamePattern().IsMatch(segments[1])
            || segments[0].Contains("..", StringComparison.Ordinal) || segments[1].Contains("..", StringComparison.Ordinal))
        {
            error = $"'{segments[0]}/{segments[1]}' is not a repository id (letters, digits, '-', '_' and '.').";
            return false;
        }

        foreach (var segment in segments.Skip(2))
        {
            if (!IsSafePathSegment(segment))
            {
                error = $"the subfolder '{string.Join('/', segments.Skip(2))}' has an empty, '.', '..' or invalid segment.";
                return false;
            }
        }

        reference = new HubModelReference(segments[0], segments[1], string.Join('/', segments.Skip(2)), revision);
        error = "";
        return true;
    }

    /// <summary>True for a path segment that stays inside its folder on every platform.</summary>
    internal static bool IsSafePathSegment(string segment) =>
        segment.Length > 0 && segment != "." && segment != ".." && !UnsafeSegmentPattern().IsMatch(segment);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9._/-]{1,255}$")]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("[\\\\:*?\"<>|\\x00-\\x1f]")]
    private static partial Regex UnsafeSegmentPattern();
}
