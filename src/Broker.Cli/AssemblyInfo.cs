using System.Runtime.CompilerServices;

// The unit tests exercise the parser, the formats and the renderers directly.
[assembly: InternalsVisibleTo("Broker.Cli.Tests")]
