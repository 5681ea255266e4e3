namespace DoraOperator.Entities.Schema;

/// <summary>Marks a type as a CustomResourceDefinition and gives its names.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CustomResourceAttribute(string singular) : Attribute
{
    public string Singular { get; } = singular;
    public string[] ShortNames { get; init; } = [];
    public string[] Categories { get; init; } = [];
}

/// <summary>An additionalPrinterColumn shown by <c>kubectl get</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute(int order, string name, string type, string jsonPath) : Attribute
{
    public int Order { get; } = order;
    public string Name { get; } = name;
    public string Type { get; } = type;
    public string JsonPath { get; } = jsonPath;
    public string? Description { get; init; }
    public int Priority { get; init; }
}

/// <summary>The field must be present.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredAttribute : Attribute;

/// <summary>The only values the field accepts.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AllowedValuesAttribute(params string[] values) : Attribute
{
    public string[] Values { get; } = values;
}

/// <summary>The value the API server fills in when the field is absent.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DefaultAttribute(object value) : Attribute
{
    public object Value { get; } = value;
}

/// <summary>
/// The API server fills in an empty object when the field is absent, so the defaults of the fields
/// inside apply too (a status that reads <c>Progressing</c> before any controller wrote one).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DefaultEmptyObjectAttribute : Attribute;

[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string regex) : Attribute
{
    public string Regex { get; } = regex;
}

[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(double minimum, double maximum) : Attribute
{
    public double Minimum { get; } = minimum;
    public double Maximum { get; } = maximum;
}

[AttributeUsage(AttributeTargets.Property)]
public sealed class MaxLengthAttribute(int length) : Attribute
{
    public int Length { get; } = length;
}

/// <summary>A list merged by key (<c>x-kubernetes-list-type: map</c>), like conditions by type.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListMapAttribute(params string[] keys) : Attribute
{
    public string[] Keys { get; } = keys;
}

/// <summary>A list of unique scalars (<c>x-kubernetes-list-type: set</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListSetAttribute : Attribute;

/// <summary>A CEL rule (<c>x-kubernetes-validations</c>) on the type or property it decorates.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property, AllowMultiple = true)]
public sealed class ValidationRuleAttribute(string rule, string message) : Attribute
{
    public string Rule { get; } = rule;
    public string Message { get; } = message;
    public string? FieldPath { get; init; }
}
