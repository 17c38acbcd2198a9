using Broker.Host;
using Broker.Host.Cli;

// The `broker` binary: `start` runs a node; every other verb is a short-lived command handled by CliApp.
var command = CommandLine.Parse(args);
if (command.Verb != CliVerb.Start) return CliApp.Run(command, Console.Out, Console.Error);
var config = ConfigCommand.LoadForStart(command, Console.Error);
if (config is null) return 1;
return await NodeRunner.RunAsync(config);
