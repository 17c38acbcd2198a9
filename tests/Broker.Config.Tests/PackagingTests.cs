using System.Diagnostics;
using System.Runtime.CompilerServices;
using Broker.Config;
using Xunit;

namespace Broker.Config.Tests;

/// <summary>
/// The files under packaging/ and install.sh. packaging/server.properties must equal what the known-key table
/// renders; after changing the table, regenerate it with
/// <c>BROKER_UPDATE_PACKAGING=1 dotnet test tests/Broker.Config.Tests --artifacts-path ...</c>.
/// </summary>
public class PackagingTests
{
    private static string RepoRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));

    [Fact]
    public void Packaged_server_properties_matches_the_rendered_table()
    {
        string path = Path.Combine(RepoRoot(), "packaging", "server.properties");
        string expected = ServerPropertiesTemplate.RenderSingleNode("/var/lib/broker");
        if (Environment.GetEnvironmentVariable("BROKER_UPDATE_PACKAGING") == "1")
            File.WriteAllText(path, expected);
        Assert.True(File.Exists(path), $"{path} is missing");
        string actual = File.ReadAllText(path);
        Assert.True(expected == actual,
            "packaging/server.properties differs from the known-key table; regenerate it with BROKER_UPDATE_PACKAGING=1 " +
            "dotnet test tests/Broker.Config.Tests --artifacts-path /tmp/art-config");
    }

    [Fact]
    public void Packaged_server_properties_loads_as_a_valid_single_node()
    {
        var (config, warnings) = BrokerConfig.Load(Path.Combine(RepoRoot(), "packaging", "server.properties"));
        Assert.Empty(warnings);
        Assert.Equal(ProcessRoles.Combined, config.Roles);
        Assert.Equal(["/var/lib/broker"], config.LogDirs);
        Assert.Equal("PLAINTEXT://localhost:9092", Assert.Single(config.AdvertisedListeners).ToString());
    }

    [Fact]
    public void Systemd_unit_has_the_required_directives_and_placeholders()
    {
        string unit = File.ReadAllText(Path.Combine(RepoRoot(), "packaging", "broker.service"));
        foreach (string line in new[]
                 {
                     "Type=simple", "ExecStart=@PREFIX@/bin/broker start --config @PREFIX@/etc/broker/server.properties",
                     "Restart=on-failure", "LimitNOFILE=1048576", "TimeoutStopSec=10", "User=@USER@",
                     "WantedBy=multi-user.target",
                 })
            Assert.Contains("\n" + line + "\n", unit);
    }

    private static (int Code, string Out, string Err) RunInstall(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(RepoRoot(), "install.sh"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "install.sh did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Install_script_dry_run_prints_the_steps_and_changes_nothing()
    {
        using var dir = new TempDir();
        string prefix = Path.Combine(dir.Path, "prefix");
        string data = Path.Combine(dir.Path, "data");
        var (code, output, err) = RunInstall("--dry-run", "--prefix", prefix, "--data-dir", data, "--no-service", "--start");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("dry run", output);
        Assert.Contains("+ dotnet publish", output);
        Assert.Contains($"{prefix}/bin/broker", output);
        Assert.Contains($"+ write {prefix}/etc/broker/server.properties", output);
        Assert.Contains("nohup", output);
        Assert.DoesNotContain("broker.service", output);
        Assert.False(Directory.Exists(prefix));
        Assert.False(Directory.Exists(data));
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--prefix")]
    public void Install_script_rejects_bad_arguments_with_exit_code_2(string arg)
    {
        var (code, _, err) = RunInstall(arg);
        Assert.Equal(2, code);
        Assert.Contains("Usage: install.sh", err);
    }

    [Fact]
    public void Install_script_installs_a_prebuilt_binary_and_is_idempotent()
    {
        using var dir = new TempDir();
        string prefix = Path.Combine(dir.Path, "prefix");
        string data = Path.Combine(dir.Path, "data");
        string fake = dir.Write("fake-broker", "#!/bin/sh\necho fake\n");

        var (code, output, err) = RunInstall("--binary", fake, "--prefix", prefix, "--data-dir", data, "--no-service");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        string bin = Path.Combine(prefix, "bin", "broker");
        Assert.True(File.Exists(bin));
        Assert.True((File.GetUnixFileMode(bin) & UnixFileMode.UserExecute) != 0);
        string conf = Path.Combine(prefix, "etc", "broker", "server.properties");
        Assert.Contains($"\nlog.dirs={data}\n", File.ReadAllText(conf));
        Assert.True(Directory.Exists(data));

        // Second run with a locally edited config: the edit is kept, the new default goes to .new.
        File.AppendAllText(conf, "num.partitions=3\n");
        (code, output, err) = RunInstall("--binary", fake, "--prefix", prefix, "--data-dir", data, "--no-service");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.EndsWith("num.partitions=3\n", File.ReadAllText(conf));
        Assert.True(File.Exists(conf + ".new"));
        Assert.Contains("keeping the existing", output);
    }
}
