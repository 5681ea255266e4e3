using System.CommandLine;
using DoraOperator.Operator.Crds;

var root = new RootCommand(
    "DoraOperator measures the DORA metrics of the workloads on a Kubernetes cluster.\n" +
    "The controllers are not built yet; today this binary generates the CRD manifests.")
{
    new Command("generate", "Generate files derived from the code.") { GenerateCrdsCommand.Create() },
};
return await root.Parse(args).InvokeAsync();
