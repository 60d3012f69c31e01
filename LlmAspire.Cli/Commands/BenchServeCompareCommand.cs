using System.CommandLine;
using LlmAspire.Cli.Benchmarking;

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
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = new List<BenchResult>();
            foreach (FileInfo file in parse.GetRequiredValue(results))
            {
                if (!file.Exists)
                {
                    await Console.Error.WriteLineAsync($"{file.FullName} does not exist.");
                    return 2;
                }

                loaded.Add(await BenchResult.ReadAsync(file.FullName, cancellationToken));
            }

            string table = BenchReport.Table(loaded);
            Console.Write(table);
            if (parse.GetValue(markdown) is { } md)
            {
                await File.WriteAllTextAsync(md.FullName, table, cancellationToken);
            }

            if (parse.GetValue(plotDir) is { } folder)
            {
                var series = loaded.SelectMany(r => r.Runs.Select(run => (BenchPlots.RunName(r.Label, run, r.Runs.Count > 1), run))).ToList();
                foreach (string path in BenchPlots.Write(folder.FullName, parse.GetRequiredValue(prefix), series, parse.GetRequiredValue(plotFormat)))
                {
                    Console.WriteLine($"plot: {path}");
                }
            }

            return 0;
        });
        return command;
    }
}
