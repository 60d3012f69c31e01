namespace LlmAspire.Cli.Deployment;

/// <summary>An endpoint of a manifest resource: <c>port</c> is what clients use, <c>targetPort</c> what the process listens on.</summary>
internal sealed record ManifestBinding(string Name, string Scheme, string Protocol, int? Port, int? TargetPort, bool External);
