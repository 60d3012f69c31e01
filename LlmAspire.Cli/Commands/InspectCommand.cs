using System.CommandLine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model inspect</c>: configuration, parameter count, files, opsets, operators and quantization of a model folder.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "Model folder" };
        var command = new Command("inspect", "Describe a model folder.") { folder };
        command.SetAction(parse =>
        {
            DirectoryInfo directory = parse.GetRequiredValue(folder);
            try
            {
                Console.Write(ModelInspection.Inspect(directory.FullName).Format());
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
