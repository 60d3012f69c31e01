using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary><c>generate</c>: stream a continuation of a prompt to stdout.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model folder", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text (or --prompt-ids)" };
        var promptIds = new Option<string>("--prompt-ids") { Description = "The prompt as comma-separated token ids, used as given (no BOS added)" }
            .MustParse(value => ParseIds(value));
        var printIds = new Option<bool>("--print-ids") { Description = "Print the generated token ids, comma-separated, as the last output line" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 60 }.AtLeast(1);
        var temperature = new Option<float>("--temperature") { Description = "0 is greedy", DefaultValueFactory = _ => 0f }.AtLeast(0f);
        var topP = new Option<float>("--top-p") { Description = "Nucleus mass, in (0, 1]", DefaultValueFactory = _ => 1f }.Within(0f, 1f);
        var seed = new Option<long?>("--seed") { Description = "Sampling seed" };
        var provider = new Option<ExecutionProviderPreference>("--execution-provider") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => ExecutionProviderPreference.Cpu };
        var stats = new Option<bool>("--stats") { Description = "Print timing to stderr" };
        var command = new Command("generate", "Generate a continuation of a prompt.") { model, prompt, promptIds, printIds, maxTokens, temperature, topP, seed, provider, stats };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(prompt) is null) == (result.GetResult(promptIds) is null))
            {
                result.AddError("Give the prompt as exactly one of --prompt TEXT or --prompt-ids 1,5,9.");
            }
        });
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string folder = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            using LanguageModel lm = LanguageModel.Load(folder, parse.GetValue(provider));
            int[] tokens;
            string text;
            if (parse.GetValue(promptIds) is { } ids)
            {
                tokens = ParseIds(ids);
                if (tokens.FirstOrDefault(id => id >= lm.VocabularySize, -1) is >= 0 and var unknown)
                {
                    throw UserErrorException.Usage($"--prompt-ids: token id {unknown} is outside the vocabulary of {lm.Id} (ids 0 to {lm.VocabularySize - 1}).");
                }

                text = lm.Tokenizer.Decode(tokens);
            }
            else
            {
                text = parse.GetRequiredValue(prompt);
                tokens = lm.Tokenizer.Encode(text, addBos: true);
            }

            var request = new GenerationRequest(tokens, parse.GetValue(maxTokens), parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(seed));
            await stdout.WriteAsync(text);
            var stopwatch = Stopwatch.StartNew();
            GenerationUpdate? last = null;
            await foreach (GenerationUpdate update in lm.GenerateAsync(request, cancellationToken))
            {
                await stdout.WriteAsync(update.Text);
                last = update;
            }

            await stdout.WriteLineAsync();
            if (parse.GetValue(printIds))
            {
                await stdout.WriteLineAsync(string.Join(',', last?.TokenIds ?? []));
            }
            if (parse.GetValue(stats) && last is not null)
            {
                double seconds = stopwatch.Elapsed.TotalSeconds;
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    $"[{lm.ExecutionProvider}] prompt {tokens.Length} tokens, generated {last.CompletionTokens} in {seconds:F3} s ({last.CompletionTokens / seconds:F1} tokens/s), finish_reason {last.FinishReason}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Token ids written as <c>1,5,9</c>: at least one, each a non-negative integer.</summary>
    private static int[] ParseIds(string value)
    {
        string[] parts = value.Split(',', StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new FormatException($"'{parts[i]}' is not a token id: give non-negative integers separated by commas, e.g. 1,5,9.");
            }
        }

        return ids;
    }
}
