module.exports = require('../../webpack.service.cjs')('profile-store');
