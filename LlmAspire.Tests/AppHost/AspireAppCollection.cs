namespace LlmAspire.Tests.AppHost;

/// <summary>The end-to-end tests that share one running topology.</summary>
[CollectionDefinition(Name)]
public sealed class AspireAppCollection : ICollectionFixture<AspireAppFixture>
{
    /// <summary>The collection name for <c>[Collection(AspireAppCollection.Name)]</c>.</summary>
    public const string Name = "aspire-app";
}
