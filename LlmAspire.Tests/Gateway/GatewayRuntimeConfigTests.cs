using System.Text.Json;

namespace LlmAspire.Tests.Gateway;

/// <summary>
/// The gateway's runtime settings as built (its <c>runtimeconfig.json</c>): workstation GC, concurrent, and no dynamic
/// PGO, the choices that keep its memory flat under load (docs/BENCHMARKS.md, Soak), and no thread-pool spinning (Gateway capacity).
/// </summary>
public sealed class GatewayRuntimeConfigTests
{
    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "LlmAspire.Gateway.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Theory]
    [InlineData("System.GC.Server", false)]
    [InlineData("System.GC.Concurrent", true)]
    [InlineData("System.Runtime.TieredPGO", false)]
    public void RuntimeConfig_SetsTheGcAndJitChoices(string property, bool expected)
    {
        Assert.True(ConfigProperties().TryGetProperty(property, out var value), $"{property} is not set");
        Assert.Equal(expected, value.GetBoolean());
    }

    [Fact]
    public void RuntimeConfig_TurnsThreadPoolSpinningOff()
    {
        Assert.True(ConfigProperties().TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var value), "the spin limit is not set");
        Assert.Equal("0", value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
    }
}
