namespace LlmAspire.Tests.Deployment.Podman;

/// <summary>
/// A fact that builds and runs container images with Podman: opt-in with <c>LLMASPIRE_PODMAN_TESTS=1</c>, since
/// publishing both apps and building their images takes minutes (7 on a loaded two-core machine, too much for the
/// suite's budget), and it needs Podman on PATH. Skipped, with the reason, otherwise.
/// </summary>
internal sealed class PodmanFactAttribute : FactAttribute
{
    /// <summary>The environment variable that turns the Podman tests on.</summary>
    public const string OptInVariable = "LLMASPIRE_PODMAN_TESTS";

    public PodmanFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(OptInVariable) != "1")
        {
            Skip = $"Builds and runs the Podman images (minutes): set {OptInVariable}=1 to run it (README, Deploy and operate: Podman).";
        }
        else if (ScriptRunner.FindOnPath("podman") is null)
        {
            Skip = "Needs Podman ('apt-get install podman runc', and deploy/podman/containers.conf as /etc/containers/containers.conf where CAP_SYS_RESOURCE is dropped).";
        }
    }
}
