module.exports = require('../../webpack.service.cjs')('collector');
