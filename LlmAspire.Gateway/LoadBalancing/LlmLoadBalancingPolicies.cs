namespace LlmAspire.Gateway.LoadBalancing;

/// <summary>
/// The load-balancing policy names a model's cluster may use (<c>Gateway:LoadBalancingPolicy</c>,
/// <c>Gateway:Models:{name}:Policy</c>): the LLM-aware ones implemented here and YARP's built-ins.
/// </summary>
public static class LlmLoadBalancingPolicies
{
    /// <summary>
    /// The least-loaded server: waiting + running requests (+ KV-cache usage) from each server's <c>/metrics</c>,
    /// plus the requests this gateway sent it since that reading; the gateway's own in-flight count where no
    /// metrics are known. Ties are broken at random.
    /// </summary>
    public const string LoadAware = "LoadAware";

    /// <summary>
    /// Requests with the same <c>x-session-id</c>, or whose prompts share their first characters, go to the same
    /// server (rendezvous hashing over the available servers), unless that server is busier than the least-loaded
    /// one by more than <c>Gateway:Routing:AffinityMargin</c>; then <see cref="LoadAware"/> picks.
    /// </summary>
    public const string PrefixAffinity = "PrefixAffinity";

    /// <summary>YARP's round-robin (<see cref="Yarp.ReverseProxy.LoadBalancing.LoadBalancingPolicies.RoundRobin"/>).</summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>YARP's power of two choices over the gateway's own in-flight counts.</summary>
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";

    /// <summary>YARP's least requests (the gateway's own in-flight counts).</summary>
    public const string LeastRequests = "LeastRequests";

    /// <summary>YARP's random choice.</summary>
    public const string Random = "Random";

    /// <summary>YARP's first destination in alphabetical order (for tests and debugging).</summary>
    public const string FirstAlphabetical = "FirstAlphabetical";

    /// <summary>The default policy of every cluster.</summary>
    public const string Default = LoadAware;

    /// <summary>Every accepted name.</summary>
    public static IReadOnlyList<string> All { get; } =
        [LoadAware, PrefixAffinity, RoundRobin, PowerOfTwoChoices, LeastRequests, Random, FirstAlphabetical];

    /// <summary>Whether <paramref name="policy"/> names a known policy (case-insensitive, as YARP looks them up).</summary>
    public static bool IsKnown(string? policy) =>
        policy is not null && All.Contains(policy, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the policy reads the servers' load, so the gateway scrapes their <c>/metrics</c>.</summary>
    public static bool UsesServerLoad(string? policy) =>
        string.Equals(policy, LoadAware, StringComparison.OrdinalIgnoreCase)
        || string.Equals(policy, PrefixAffinity, StringComparison.OrdinalIgnoreCase);
}
