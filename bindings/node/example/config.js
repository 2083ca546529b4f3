// The engine configuration for the example's tables: which column holds which SCIM attribute, and (`rest`)
// the column that keeps every attribute without a column of its own. The same as the PHP example's.

export function config(baseUrl) {
  return {
    baseUrl,
    // Users and groups are numbered per table in the SQLite example, so an id alone cannot say which one a member
    // is, and the membership table holds users only: a group as a member is refused.
    switches: { nestedGroups: false },
    mapping: {
      User: {
        id: 'id',
        columns: {
          userName: 'username',
          'name.givenName': 'firstname',
          'name.familyName': 'lastname',
          'emails[type eq "work"].value': 'email',
          'phoneNumbers[type eq "work"].value': 'phone',
          externalId: 'official_code',
          preferredLanguage: 'language',
          active: { column: 'active', type: 'boolean01' },
          'meta.created': { column: 'created_at', type: 'sqlDateTime' },
          'meta.lastModified': { column: 'updated_at', type: 'sqlDateTime' },
        },
        rest: 'scim_extra',
      },
      Group: {
        id: 'id',
        columns: {
          displayName: 'name',
          externalId: 'external_id',
          'meta.created': { column: 'created_at', type: 'sqlDateTime' },
          'meta.lastModified': { column: 'updated_at', type: 'sqlDateTime' },
        },
        rest: 'scim_extra',
      },
    },
  };
}
