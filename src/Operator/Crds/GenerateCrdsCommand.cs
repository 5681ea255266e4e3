using System.CommandLine;
using DoraOperator.Entities.Schema;

namespace DoraOperator.Operator.Crds;

/// <summary><c>generate crds --output DIR</c>: writes one CRD manifest per kind, generated from src/Entities.</summary>
internal static class GenerateCrdsCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Directory to write the CRD manifests to (created if missing).",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("config", "crds")),
        };
        var check = new Option<bool>("--check")
        {
            Description = "Write nothing; exit 1 if the files in the directory differ from what would be generated.",
        };
        var command = new Command("crds", "Generate the CustomResourceDefinition manifests (dora-operator.io_<plural>.yaml) from the C# entity types.")
        {
            output,
            check,
        };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!;
            var stale = new List<string>();
            foreach (var (file, yaml) in CrdGenerator.GenerateAll())
            {
                var path = Path.Combine(dir.FullName, file);
                if (parse.GetValue(check))
                {
                    if (!File.Exists(path) || File.ReadAllText(path) != yaml) stale.Add(path);
                    continue;
                }
                Directory.CreateDirectory(dir.FullName);
                File.WriteAllText(path, yaml);
                Console.WriteLine($"wrote {path}");
            }
            if (stale.Count == 0) return 0;
            Console.Error.WriteLine($"stale CRD manifests (regenerate with: dotnet run --project src/Operator -- generate crds --output {dir}):");
            foreach (var s in stale) Console.Error.WriteLine($"  {s}");
            return 1;
        });
        return command;
    }
}
