namespace LlmAspire.Inference.Models.Hub;

/// <summary>The outcome of <see cref="HubModelResolver.ResolveAsync"/>.</summary>
/// <param name="Reference">What was resolved.</param>
/// <param name="Folder">The local model folder to load; its name is <see cref="HubModelReference.Name"/>.</param>
/// <param name="Format">What the hub folder held.</param>
/// <param name="Commit">The commit the files came from, when the hub said.</param>
/// <param name="FromCache">True when a complete cached snapshot was used without any network access.</param>
public sealed record HubResolution(HubModelReference Reference, string Folder, HubModelFormat Format, string? Commit, bool FromCache);
