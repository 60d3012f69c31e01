using LlmAspire.Cli;

return await CliApplication.RunAsync(args);
