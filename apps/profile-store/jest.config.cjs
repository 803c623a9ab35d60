module.exports = { displayName: 'profile-store', preset: '../../jest.preset.js' };
