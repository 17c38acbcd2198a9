using Broker.LoadGen;
using Broker.LoadGen.Output;

// Entry point of the load generator: parse, run the scenario (or the selftest), print and write the results.
// Exit codes: 0 ok, 1 errors during the run, 2 bad arguments.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help" || args.Contains("--help"))
{
    Console.WriteLine(Options.Usage);
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "fake-broker") return Broker.LoadGen.Testing.FakeBroker.Run(args);

Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("loadgen: " + e.Message);
    Console.Error.WriteLine("run 'loadgen --help' for the options");
    return 2;
}

if (options.Scenario == Scenario.SelfTest) return SelfTest.Run();

var result = await new Runner(options).RunAsync();
Console.Out.Write(Reports.Table(result));
try
{
    if (options.JsonFile is not null) Reports.WriteJson(result, options.JsonFile);
    if (options.ReportFile is not null) File.WriteAllText(options.ReportFile, Reports.Markdown(result));
}
catch (IOException e)
{
    Console.Error.WriteLine("loadgen: cannot write output: " + e.Message);
    return 1;
}
catch (UnauthorizedAccessException e)
{
    Console.Error.WriteLine("loadgen: cannot write output: " + e.Message);
    return 1;
}
if (result.Failure is not null) Console.Error.WriteLine("loadgen: FAILED: " + result.Failure);
return result.Ok ? 0 : 1;
