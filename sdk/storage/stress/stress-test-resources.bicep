// The storage account of the stress test, deployed by stress-test-addons'
// init container before the test starts; the outputs become environment
// variables of the test container ($ENV_FILE), read by storage-blob-perf.

@description('The base resource name (given by the stress cluster).')
param baseName string = resourceGroup().name

@description('Where the account is.')
param location string = resourceGroup().location

// 3 to 24 lowercase letters and digits.
var accountName = take('st${uniqueString(baseName)}', 24)

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  sku: {
    name: 'Standard_LRS'
  }
  kind: 'StorageV2'
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: false
    }
  }
}

output AZURE_STORAGE_ACCOUNT_NAME string = account.name
output AZURE_STORAGE_BLOB_ENDPOINT string = account.properties.primaryEndpoints.blob
// The pods have no developer credential: the suite signs with the key
// (turned into an account SAS by the 1.x tests). Kept in the test's own
// $ENV_FILE volume only.
#disable-next-line outputs-should-not-contain-secrets
output AZURE_STORAGE_CONNECTION_STRING string = 'DefaultEndpointsProtocol=https;AccountName=${account.name};AccountKey=${account.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
