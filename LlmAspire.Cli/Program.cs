using System.CommandLine;
using LlmAspire.Cli.Commands;

var root = new RootCommand("LlmAspire command-line tool: convert, inspect and run models.")
{
    ModelCommands.Create(),
    GenerateCommand.Create(),
    KubernetesCommand.Create(),
    new Command("bench", "Benchmarks.") { BenchQuantizationCommand.Create(), BenchEngineCommand.Create(), BenchServeCommand.Create(), BenchServeCompareCommand.Create(), BenchSoakCommand.Create() },
};
return await root.Parse(args).InvokeAsync();
