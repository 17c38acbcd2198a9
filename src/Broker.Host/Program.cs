using Broker.Cli;
using Broker.Host;
using Broker.Host.Cli;

// The `broker` binary: `start` runs a node; the operator verbs (topic, produce, consume, group, cluster) run the
// command-line tool of Broker.Cli; every other verb is a short-lived command handled by CliApp.
if (args.Length > 0 && BrokerTool.IsToolVerb(args[0])) return await ToolHost.RunAsync(args);
var command = CommandLine.Parse(args);
if (command.Verb != CliVerb.Start) return CliApp.Run(command, Console.Out, Console.Error);
var config = ConfigCommand.LoadForStart(command, Console.Error);
if (config is null) return 1;
return await NodeRunner.RunAsync(config);
