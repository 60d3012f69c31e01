using System.CommandLine;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Errors;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench compare</c>: several <c>bench serve</c> result files side by side: one Markdown table, and the latency
/// CDFs of all of them overlaid in one plot per metric.
/// </summary>
internal static class BenchServeCompareCommand
{
    public static Command Create()
    {
        var results = new Argument<FileInfo[]>("results") { Description = "bench serve --result-json files", Arity = ArgumentArity.OneOrMore };
        var plotDir = new Option<DirectoryInfo?>("--plot-dir") { Description = "Write the overlaid CDFs here" };
        var prefix = new Option<string>("--name") { Description = "File name prefix of the plots", DefaultValueFactory = _ => "compare" };
        var plotFormat = new Option<string>("--plot-format") { Description = "png or svg", DefaultValueFactory = _ => "png" };
        plotFormat.AcceptOnlyFromAmong("png", "svg");
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the table to this file" };
        var command = new Command("compare", "Compare bench serve result files: a table and overlaid latency CDFs.") { results, plotDir, prefix, plotFormat, markdown };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string[] files = [.. parse.GetRequiredValue(results).Select(file =>
                CommandPaths.ExistingFile(file, "result file", "pass the files that `llmaspire bench serve --result-json` wrote"))];
            string? markdownFile = parse.GetValue(markdown) is { } md ? CommandPaths.WritableFile(md, "--markdown") : null;
            string? plotFolder = parse.GetValue(plotDir) is { } folder ? CommandPaths.WritableFolder(folder, "--plot-dir") : null;
            var loaded = new List<BenchResult>();
            foreach (string file in files)
            {
                loaded.Add(await BenchResult.ReadAsync(file, cancellationToken));
            }

            string table = BenchReport.Table(loaded);
            await stdout.WriteAsync(table);
            if (markdownFile is not null)
            {
                await File.WriteAllTextAsync(markdownFile, table, cancellationToken);
            }

            if (plotFolder is not null)
            {
                var series = loaded.SelectMany(r => r.Runs.Select(run => (BenchPlots.RunName(r.Label, run, r.Runs.Count > 1), run))).ToList();
                foreach (string path in BenchPlots.Write(plotFolder, parse.GetRequiredValue(prefix), series, parse.GetRequiredValue(plotFormat)))
                {
                    await stdout.WriteLineAsync($"plot: {path}");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
