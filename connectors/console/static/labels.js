// Every code the console shows to people, in Chinese. An unknown code shows as "其他", never raw.
export const REASONS = { requested: "市民要求人工", repeated_fallback: "多次未能识别", anger: "情绪激动",
  repeat_complaint: "重复投诉未解决", emergency: "紧急情况", operator_left: "客服断线重排",
  bot_error: "智能助手未能回复" };
export const APPEAL = { complaint: "投诉", report: "举报", help: "求助", consultation: "咨询", suggestion: "建议", praise: "表扬" };
export const STATUS = { accepted: "已受理", dispatched: "已派单", returned: "已退单", acknowledged: "已签收",
  in_progress: "办理中", resolved: "已办结", rated: "已回访", closed: "已归档" };
export const HANDLING = { bot: "智能助手服务中", waiting: "等待人工", operator: "人工服务中" };
export const AUTHOR = { citizen: "市民", bot: "智能助手", system: "系统", operator: "人工客服" };
export const CHANNEL = { webchat: "网页", telegram: "电报", wechat: "微信", sms: "短信", phone: "电话",
  open311: "开放接口", other: "其他渠道" };
export const SLOT = { description: "问题描述", address: "地址", district: "区", street: "街道", category_code: "事项分类代码",
  category_name: "事项分类", unit_name: "承办单位", contact_name: "姓名", contact_phone: "联系电话",
  appeal_type: "诉求类型", filed_case_number: "工单号" };
export const URGENCY = { emergency: "紧急", utility: "水电气热", general: "一般", complex: "复杂" };
export const ROLE = { operator: "接线员", unit_staff: "承办单位", supervisor: "督办", admin: "管理员" };
export const MOVE = { dispatch: "派单", acknowledge: "签收", return: "退单", start: "开始办理", resolve: "办结",
  resolve_on_spot: "直接办结", rate: "回访", reopen: "重办", close: "归档", accept: "受理", note: "备注",
  supervise: "督办", link: "关联工单", summon: "吹哨", check_in: "报到", alert: "督办提醒" };

export const label = (names, code) => (code ? names[code] || "其他" : "");
export const UNIT_KIND = { all: "全部承办单位", street: "街道（乡镇）", department: "职能部门", district: "区政府" };
