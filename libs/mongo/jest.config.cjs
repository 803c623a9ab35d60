module.exports = { displayName: 'mongo', preset: '../../jest.preset.js' };
