using System.ComponentModel.DataAnnotations;
using System.Reflection;
using LlmAspire.Inference.Engine;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// The model server's <c>ModelServer</c> configuration section reaches the engine's options: bound by the configuration
/// binder and validated by its data annotations, as the server's <c>BindConfiguration().ValidateDataAnnotations()</c>
/// does. The test project does not reference the server (the AppHost runs it as a process), so its built assembly is
/// loaded from its output folder.
/// </summary>
public sealed class ModelServerSpinningOptionsTests
{
    [Theory]
    [InlineData("WithinRun", null, SpinningMode.WithinRun)]
    [InlineData("always", null, SpinningMode.Always)]
    [InlineData("brief", null, SpinningMode.Brief)]
    [InlineData("Off", "true", SpinningMode.Off)] // Spinning wins over the older switch
    [InlineData(null, "true", SpinningMode.Always)] // the older switch alone
    [InlineData(null, "false", SpinningMode.Brief)] // false is "the engine's default", Brief since 2026-12-04
    public void SpinningAndAllowSpinning_ReachEngineOptions(string? spinning, string? allowSpinning, SpinningMode expected)
    {
        object options = Bind(new Dictionary<string, string?>
        {
            ["ModelServer:Spinning"] = spinning,
            ["ModelServer:AllowSpinning"] = allowSpinning,
            ["ModelServer:IntraOpThreads"] = "3",
        });
        Assert.Empty(Validate(options));
        EngineOptions engine = EngineOptionsOf(options);
        Assert.Equal(expected, engine.Spinning);
        Assert.Equal(3, engine.IntraOpThreads);
    }

    [Fact]
    public void NoSpinningSetting_GivesTheEnginesDefault()
    {
        object options = Bind(new Dictionary<string, string?> { ["ModelServer:MaxSequences"] = "4" });
        Assert.Equal(new EngineOptions().Spinning, EngineOptionsOf(options).Spinning);
        Assert.Equal(0, EngineOptionsOf(options).IntraOpThreads);
    }

    [Fact]
    public void AnUnknownSpinningMode_FailsValidation_NamingTheSetting()
    {
        object options = Bind(new Dictionary<string, string?> { ["ModelServer:Spinning"] = "sometimes" });
        ValidationResult failure = Assert.Single(Validate(options));
        Assert.Contains("ModelServer:Spinning must be Off, WithinRun, Always or Brief", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, AttentionKernelChoice.LlmAspire)]
    [InlineData("onnxruntime", AttentionKernelChoice.OnnxRuntime)]
    [InlineData("LlmAspire", AttentionKernelChoice.LlmAspire)]
    public void AttentionKernel_ReachesEngineOptions(string? kernel, AttentionKernelChoice expected)
    {
        object options = Bind(new Dictionary<string, string?> { ["ModelServer:AttentionKernel"] = kernel });
        Assert.Empty(Validate(options));
        Assert.Equal(expected, EngineOptionsOf(options).Attention);
    }

    [Fact]
    public void AnUnknownAttentionKernel_FailsValidation_NamingTheSetting()
    {
        object options = Bind(new Dictionary<string, string?> { ["ModelServer:AttentionKernel"] = "flash" });
        ValidationResult failure = Assert.Single(Validate(options));
        Assert.Contains("ModelServer:AttentionKernel must be LlmAspire or OnnxRuntime", failure.ErrorMessage, StringComparison.Ordinal);
    }

    private static object Bind(Dictionary<string, string?> values)
    {
        Type type = ServerAssembly.Value.GetType("LlmAspire.ModelServer.ModelServerOptions", throwOnError: true)!;
        object options = Activator.CreateInstance(type)!;
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        configuration.GetSection("ModelServer").Bind(options);
        return options;
    }

    private static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    private static EngineOptions EngineOptionsOf(object options) =>
        (EngineOptions)options.GetType().GetMethod("GetEngineOptions")!.Invoke(options, null)!;

    private static readonly Lazy<Assembly> ServerAssembly = new(() =>
    {
        // The configuration this test project was built in (bin/<configuration>/<tfm>/), which built the server too.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string path = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.ModelServer", "bin", output.Parent!.Name, output.Name, "LlmAspire.ModelServer.dll");
        return Assembly.LoadFrom(path);
    });
}
