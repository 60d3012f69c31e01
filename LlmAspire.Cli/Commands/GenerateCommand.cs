using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary><c>generate</c>: stream a continuation of a prompt to stdout.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model folder", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 60 };
        var temperature = new Option<float>("--temperature") { Description = "0 is greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus mass", DefaultValueFactory = _ => 1f };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed" };
        var provider = new Option<ExecutionProviderPreference>("--execution-provider") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => ExecutionProviderPreference.Cpu };
        var stats = new Option<bool>("--stats") { Description = "Print timing to stderr" };
        var command = new Command("generate", "Generate a continuation of a prompt.") { model, prompt, maxTokens, temperature, topP, seed, provider, stats };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using LanguageModel lm = LanguageModel.Load(parse.GetRequiredValue(model).FullName, parse.GetValue(provider));
            string text = parse.GetRequiredValue(prompt);
            int[] tokens = lm.Tokenizer.Encode(text, addBos: true);
            var request = new GenerationRequest(tokens, parse.GetValue(maxTokens), parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(seed));
            Console.Write(text);
            var stopwatch = Stopwatch.StartNew();
            GenerationUpdate? last = null;
            await foreach (GenerationUpdate update in lm.GenerateAsync(request, cancellationToken))
            {
                Console.Write(update.Text);
                last = update;
            }

            Console.WriteLine();
            if (parse.GetValue(stats) && last is not null)
            {
                double seconds = stopwatch.Elapsed.TotalSeconds;
                Console.Error.WriteLine(
                    $"[{lm.ExecutionProvider}] prompt {tokens.Length} tokens, generated {last.CompletionTokens} in {seconds:F3} s ({last.CompletionTokens / seconds:F1} tokens/s), finish_reason {last.FinishReason}");
            }

            return 0;
        });
        return command;
    }
}
