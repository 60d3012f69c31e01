using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.AppHost;

/// <summary>The AppHost's configuration, section <c>LlmAspire</c> (e.g. <c>--LlmAspire:ModelServers=3</c>).</summary>
internal sealed class LlmAspireSettings
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "LlmAspire";

    /// <summary>The most model servers one AppHost starts.</summary>
    public const int MaxModelServers = 64;

    /// <summary>How many model servers to start: <c>modelserver-0</c> … <c>modelserver-{N-1}</c>.</summary>
    public int ModelServers { get; init; } = 2;

    /// <summary>The model folder every server serves, as an absolute path; null for the built-in demo model.</summary>
    public string? ModelPath { get; init; }

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

        string? modelPath = null;
        var modelPathText = section[nameof(ModelPath)];
        if (!string.IsNullOrWhiteSpace(modelPathText))
        {
            modelPath = Path.GetFullPath(modelPathText);
            if (!isPublishMode && !Directory.Exists(modelPath))
            {
                throw new InvalidOperationException(
                    $"{SectionName}:{nameof(ModelPath)} '{modelPathText}' (resolved to '{modelPath}') is not a folder. "
                    + "Convert a model first (see README) or leave the key empty for the built-in demo model.");
            }
        }

        return new LlmAspireSettings
        {
            ModelServers = modelServers,
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
}
