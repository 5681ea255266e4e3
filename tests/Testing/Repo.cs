namespace DoraOperator.Testing;

/// <summary>Paths in the repository, for tests that read its files (config/crds, config/samples).</summary>
public static class Repo
{
    /// <summary>The repository root: the folder holding DoraOperator.sln.</summary>
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "DoraOperator.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("DoraOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
