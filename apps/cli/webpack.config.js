module.exports = require('../../webpack.service.cjs')('cli');
