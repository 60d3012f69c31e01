using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.AppHost;

/// <summary>The AppHost's configuration, section <c>LlmAspire</c> (e.g. <c>--LlmAspire:ModelServers=3</c>).</summary>
internal sealed partial class LlmAspireSettings
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LlmAspire";

    /// <summary>The most model servers one AppHost starts.</summary>
    public const int MaxModelServers = 64;

    /// <summary>How many model servers to start: <c>modelserver-0</c> … <c>modelserver-{N-1}</c>.</summary>
    public int ModelServers { get; init; } = 2;

    /// <summary>
    /// The model every server serves when <c>LlmAspire:ModelPath</c> is not set: stories260K from the Hugging Face hub,
    /// downloaded and converted on first use. A server that cannot reach the hub (and has nothing cached) serves the
    /// built-in demo model instead, with a warning.
    /// </summary>
    public const string DefaultModelPath = "hf:karpathy/tinyllamas/stories260K";

    /// <summary>
    /// The model every server serves: a model folder as an absolute path, or an <c>hf:</c> hub reference as given;
    /// null when not configured, which serves <see cref="DefaultModelPath"/>.
    /// </summary>
    public string? ModelPath { get; init; }

    /// <summary>The model servers' engine when not configured: ONNX Runtime over <see cref="ModelPath"/>.</summary>
    public const string OnnxEngine = "onnx";

    /// <summary>The engine that loads no model and sleeps through a GPU server's latency model (<c>ModelServer:Engine=simulated</c>).</summary>
    public const string SimulatedEngine = "simulated";

    /// <summary>
    /// Every model server's <c>ModelServer:Engine</c>: <c>onnx</c> (the default) or <c>simulated</c>, where the servers load
    /// nothing, need no model path, and start in about a second each: the way to run fleets of up to <see cref="MaxModelServers"/>.
    /// </summary>
    public string Engine { get; init; } = OnnxEngine;

    /// <summary>Whether <see cref="Engine"/> is <c>simulated</c>.</summary>
    public bool IsSimulated => Engine == SimulatedEngine;

    /// <summary>The gateway's port; null lets the orchestrator choose one.</summary>
    public int? GatewayPort { get; init; } = 5080;

    /// <summary>How to run Redis.</summary>
    public RedisMode RedisMode { get; init; } = RedisMode.Auto;

    /// <summary>
    /// Reads and checks the section. Relative model paths resolve against the current directory
    /// (where <c>dotnet run</c> was started). Throws with the offending key on bad values.
    /// </summary>
    public static LlmAspireSettings Read(IConfiguration configuration, bool isPublishMode)
    {
        var section = configuration.GetSection(SectionName);

        var modelServers = ReadInt(section, nameof(ModelServers), 2);
        if (modelServers is < 1 or > MaxModelServers)
        {
            throw new InvalidOperationException(
                $"{SectionName}:{nameof(ModelServers)} must be between 1 and {MaxModelServers}; it is {modelServers}.");
        }

        var gatewayPort = ReadInt(section, nameof(GatewayPort), 5080);
        if (gatewayPort is < 0 or > 65535)
        {
            throw new InvalidOperationException(
                $"{SectionName}:{nameof(GatewayPort)} must be a TCP port (0 lets the orchestrator choose); it is {gatewayPort}.");
        }

        var redisModeText = section[nameof(RedisMode)];
        var redisMode = RedisMode.Auto;
        if (!string.IsNullOrWhiteSpace(redisModeText)
            && (!Enum.TryParse(redisModeText, ignoreCase: true, out redisMode) || !Enum.IsDefined(redisMode)))
        {
            throw new InvalidOperationException(
                $"{SectionName}:{nameof(RedisMode)} must be auto, container or executable; it is '{redisModeText}'.");
        }

        var engineText = section[nameof(Engine)];
        var engine = string.IsNullOrWhiteSpace(engineText) ? OnnxEngine : engineText.Trim().ToLowerInvariant();
        if (engine is not (OnnxEngine or SimulatedEngine))
        {
            throw new InvalidOperationException(
                $"{SectionName}:{nameof(Engine)} must be {OnnxEngine} or {SimulatedEngine}; it is '{engineText}'.");
        }

        string? modelPath = null;
        var modelPathText = engine == SimulatedEngine ? null : section[nameof(ModelPath)];
        if (!string.IsNullOrWhiteSpace(modelPathText) && modelPathText.TrimStart().StartsWith("hf:", StringComparison.OrdinalIgnoreCase))
        {
            // A hub reference is resolved by each model server; only its shape is checked here.
            modelPath = modelPathText.Trim();
            if (!HubReferencePattern().IsMatch(modelPath))
            {
                throw new InvalidOperationException(
                    $"{SectionName}:{nameof(ModelPath)} '{modelPathText}' is not a hub reference of the form hf:owner/repo[/subfolder][@revision].");
            }
        }
        else if (!string.IsNullOrWhiteSpace(modelPathText))
        {
            modelPath = Path.GetFullPath(modelPathText);
            if (!isPublishMode && !Directory.Exists(modelPath))
            {
                throw new InvalidOperationException(
                    $"{SectionName}:{nameof(ModelPath)} '{modelPathText}' (resolved to '{modelPath}') is not a folder. "
                    + $"Convert a model first (see README), give an hf:owner/repo reference, or leave the key empty for {DefaultModelPath}.");
            }
        }

        return new LlmAspireSettings
        {
            ModelServers = modelServers,
            Engine = engine,
            ModelPath = modelPath,
            GatewayPort = gatewayPort == 0 ? null : gatewayPort,
            RedisMode = redisMode,
        };
    }

    private static int ReadInt(IConfigurationSection section, string key, int defaultValue)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"{SectionName}:{key} must be an integer; it is '{text}'.");
    }

    [GeneratedRegex(@"^hf:[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(/[^@\s]+)?(@[A-Za-z0-9._/-]+)?$", RegexOptions.IgnoreCase)]
    private static partial Regex HubReferencePattern();
}
