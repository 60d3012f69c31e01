using System.Net;
using System.Net.Sockets;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.ModelServer;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>
/// Three real model servers of stories260K, as three pods of one Deployment would be: the same port, each on its own
/// address (127.0.0.2, 127.0.0.3, 127.0.0.4: Linux routes all of 127/8 to the loopback interface).
/// </summary>
public sealed class LoopbackPodsFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(3);

    private readonly List<ModelServerProcess> _servers = [];
    private readonly List<HttpClient> _clients = [];
    private TempDirectory? _temp;

    /// <summary>The pods' addresses.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; } = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    /// <summary>The port every pod listens on.</summary>
    public int Port { get; private set; }

    /// <summary>A client of the pod at <paramref name="address"/>, straight to it.</summary>
    public HttpClient Client(IPAddress address) => _clients[Addresses.ToList().IndexOf(address)];

    public async Task InitializeAsync()
    {
        if (!File.Exists(TestPaths.Stories260KCheckpoint) || !File.Exists(TestPaths.Stories260KTokenizer) || !HostsFileEntry.IsWritable())
        {
            // Every test of the class is a LoopbackPodsFact, skipped with the reason; start nothing.
            return;
        }

        _temp = TestPaths.CreateTempDirectory();
        var folder = Path.Combine(_temp.Path, AspireAppFixture.ModelId);
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        Port = PortFreeOnEvery(Addresses);
        foreach (var address in Addresses)
        {
            _servers.Add(ModelServerProcess.Start(folder, new Uri($"http://{address}:{Port}")));
        }

        try
        {
            foreach (var server in _servers)
            {
                _clients.Add(await server.WaitUntilHealthyAsync(s_startTimeout));
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        _clients.ForEach(client => client.Dispose());
        _servers.ForEach(server => server.Dispose());
        _temp?.Dispose();
        return Task.CompletedTask;
    }

    private static int PortFreeOnEvery(IReadOnlyList<IPAddress> addresses)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = ModelServerProcess.FreePort(addresses[0]);
            if (addresses.Skip(1).All(address => IsFree(address, port)))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No port was free on all of {string.Join(", ", addresses)}.");
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
