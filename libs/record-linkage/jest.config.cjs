module.exports = { displayName: 'record-linkage', preset: '../../jest.preset.js' };
