global using Xunit;
global using static Broker.Groups.Tests.GroupKit;
