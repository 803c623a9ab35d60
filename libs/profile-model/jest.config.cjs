module.exports = { displayName: 'profile-model', preset: '../../jest.preset.js' };
