namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// How requests are offered: at <see cref="RequestRate"/> per second (gamma inter-arrival times with
/// <see cref="Burstiness"/>; infinity sends all at once), never more than <see cref="MaxConcurrency"/> in flight when set
/// (with an infinite rate that is a closed loop of that many clients).
/// </summary>
public sealed record LoadShape(double RequestRate, double Burstiness = 1.0, int? MaxConcurrency = null, int Seed = 0);
