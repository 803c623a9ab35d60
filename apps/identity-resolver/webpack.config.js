module.exports = require('../../webpack.service.cjs')('identity-resolver');
