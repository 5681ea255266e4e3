namespace DoraOperator.Sandbox.Controllers;

/// <summary>How fast the simulated Deployment controller finishes a rollout.</summary>
public abstract record RolloutPace
{
    private RolloutPace()
    {
    }

    /// <summary>Progressing first (one write), then complete at once (a second write).</summary>
    public static RolloutPace Immediate { get; } = new ImmediatePace();

    /// <summary>Nothing moves until a test calls <see cref="DeploymentSimulator.Advance"/>.</summary>
    public static RolloutPace Manual { get; } = new ManualPace();

    /// <summary>Completes once this much time (on the server's TimeProvider) has passed since the rollout started.</summary>
    public static RolloutPace After(TimeSpan delay) => new DelayedPace(delay);

    internal sealed record ImmediatePace : RolloutPace;

    internal sealed record ManualPace : RolloutPace;

    internal sealed record DelayedPace(TimeSpan Delay) : RolloutPace;
}
