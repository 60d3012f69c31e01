using System.CommandLine;
using Google.Protobuf;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model inspect</c>: configuration, parameter count, files, opsets, operators and quantization of a model folder.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "Model folder" };
        var command = new Command("inspect", "Describe a model folder.") { folder };
        command.SetGuardedAction(parse =>
        {
            string directory = CommandPaths.ExistingFolder(
                parse.GetRequiredValue(folder), "model folder", "pass `model inspect` a folder written by `llmaspire model convert`");
            ModelInspection inspection;
            try
            {
                inspection = ModelInspection.Inspect(directory);
            }
            catch (InvalidProtocolBufferException ex)
            {
                // Protobuf's message names no file; say which folder holds the broken graph.
                throw new UserErrorException($"the ONNX graph in {directory} is not a valid ONNX model ({ex.Message}); convert or download the model again", ex);
            }

            parse.InvocationConfiguration.Output.Write(inspection.Format());
            return ExitCodes.Success;
        });
        return command;
    }
}
