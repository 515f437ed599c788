"""The starter exercise library for chronic low back pain and neuropathic pain.

Written for this product in plain words, in English and Simplified Chinese. A clinic loads
it with ``manage.py load_exercise_library <clinic slug>`` (the demo seed does it for the
demo clinic) and then edits its own copy in the console; loading again adds only the
exercises the clinic does not have yet (matched by ``slug``), so a clinic's edits stay.

Doses are starting points a therapist adjusts per patient. Nerve glides are "sliders"
(the nerve moves without being stretched at both ends at once), the gentle form used
first for entrapment and radicular pain. Pictograms are the stick figures under
``frontend/static/frontend/exercises/``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StarterExercise:
    slug: str
    type: str
    body_region: str
    pictogram: str
    name: tuple[str, str]  # (en, zh-hans)
    steps: tuple[str, str]  # one step per line
    dose: tuple[int, int, int, int, int]  # sets, reps, hold s, rest s, sessions per week
    precautions: tuple[str, str]
    contraindications: tuple[str, str]


_SPINE_PRECAUTIONS = (
    "Move slowly and keep breathing. Some effort or mild discomfort is fine; stop if pain spreads "
    "down a leg or is clearly worse for more than an hour afterwards.",
    "动作缓慢, 保持呼吸。感到用力或轻微不适是正常的; 如果疼痛向腿部放射, 或练习后明显加重超过1小时, 请停止。",
)
_SPINE_CONTRA = (
    "Recent spinal fracture or surgery without your surgeon's approval. New numbness around the "
    "groin or trouble passing urine: stop and seek medical care at once.",
    "近期脊柱骨折或手术且未经主刀医生同意时不做。如新出现会阴部麻木或排尿困难: 立即停止并就医。",
)
_GLIDE_PRECAUTIONS = (
    "A glide should feel like gentle movement, not a strong stretch. Mild tingling that fades within "
    "a few minutes is acceptable; if tingling or numbness lasts longer than 30 minutes, do fewer "
    "repetitions next time and tell your therapist.",
    "神经滑动应是轻柔的活动, 而不是强烈牵拉。轻微发麻且几分钟内消退是可以接受的; "
    "如果麻木或发麻持续超过30分钟, 下次减少次数并告诉治疗师。",
)
_GLIDE_CONTRA = (
    "Weakness that is getting worse, spreading numbness, or loss of bladder or bowel control: see a "
    "doctor first. Not in the first weeks after nerve surgery unless your surgeon agrees.",
    "肌力进行性下降、麻木范围扩大或大小便失禁时: 先就医。神经手术后数周内, 除非主刀医生同意, 否则不做。",
)
_AEROBIC_PRECAUTIONS = (
    "Aim for a pace at which you can talk but not sing. Start with what you can do today and add a "
    "few minutes each week.",
    "强度以能说话但不能唱歌为宜。从今天能完成的量开始, 每周增加几分钟。",
)
_AEROBIC_CONTRA = (
    "Chest pain, severe breathlessness or dizziness during exercise: stop and seek medical advice. "
    "Heart or lung disease: ask your doctor about a safe intensity first.",
    "运动中出现胸痛、严重气短或头晕: 停止并就医。有心肺疾病者: 先向医生确认安全强度。",
)
_STRETCH_PRECAUTIONS = (
    "Stretch to a comfortable pull, never into sharp pain. Do not bounce.",
    "拉伸到舒适的牵拉感即可, 不要进入锐痛。不要弹振。",
)
_STRETCH_CONTRA = (
    "Recent hip replacement (ask about the movements you must avoid). Recent injury to the muscle being stretched.",
    "近期髋关节置换术后(先询问需要避免的动作)。被拉伸的肌肉近期受伤时不做。",
)
_BREATH_PRECAUTIONS = (
    "Breathe gently; if you feel light-headed, return to normal breathing for a minute.",
    "轻柔呼吸; 如感到头晕, 恢复正常呼吸1分钟。",
)
_NONE = ("", "")


def _x(
    slug: str,
    type_: str,
    region: str,
    pictogram: str,
    name: tuple[str, str],
    steps: tuple[str, str],
    dose: tuple[int, int, int, int, int],
    precautions: tuple[str, str],
    contraindications: tuple[str, str],
) -> StarterExercise:
    return StarterExercise(slug, type_, region, pictogram, name, steps, dose, precautions, contraindications)


STARTER_LIBRARY: tuple[StarterExercise, ...] = (
    # --- core stabilisation -------------------------------------------------------------
    _x(
        "abdominal-bracing",
        "core_stabilisation",
        "lumbar",
        "supine-knees-bent",
        ("Abdominal bracing", "腹部收紧(腹横肌激活)"),
        (
            "Lie on your back with knees bent and feet flat.\n"
            "Place your fingertips just inside your hip bones.\n"
            "Gently draw your lower belly in, as if tightening a belt one notch; keep breathing.\n"
            "Hold, then relax fully.",
            "仰卧, 屈膝, 双脚平放。\n手指放在两侧髋骨内侧。\n轻轻向内收紧下腹部, 像把腰带收紧一格; 保持呼吸。\n保持后完全放松。",
        ),
        (1, 10, 10, 5, 7),
        _SPINE_PRECAUTIONS,
        _SPINE_CONTRA,
    ),
    _x(
        "bridge",
        "core_stabilisation",
        "lumbar",
        "bridge",
        ("Bridge", "臀桥"),
        (
            "Lie on your back with knees bent, feet hip-width apart.\n"
            "Tighten your belly gently, then squeeze your buttocks.\n"
            "Lift your hips until your body makes a straight line from shoulders to knees.\n"
            "Hold, then lower slowly one vertebra at a time.",
            "仰卧屈膝, 双脚与髋同宽。\n先轻轻收紧腹部, 再夹紧臀部。\n抬起骨盆, 使肩、髋、膝成一直线。\n保持后慢慢逐节放下。",
        ),
        (2, 10, 5, 30, 5),
        _SPINE_PRECAUTIONS,
        _SPINE_CONTRA,
    ),
    _x(
        "bird-dog",
        "core_stabilisation",
        "lumbar",
        "quadruped",
        ("Bird dog", "四点跪位对侧伸展"),
        (
            "Kneel on hands and knees, hands under shoulders, knees under hips.\n"
            "Keep your back flat and belly gently tight.\n"
            "Slide one leg back and lift it to hip height; add the opposite arm when this is easy.\n"
            "Hold without letting the back sag or twist, then change sides.",
            "四点跪位, 手在肩下, 膝在髋下。\n背部保持平直, 腹部轻轻收紧。\n"
            "一条腿向后滑出并抬到与髋同高; 容易时同时抬起对侧手臂。\n保持时腰背不塌不转, 然后换边。",
        ),
        (2, 8, 5, 30, 5),
        _SPINE_PRECAUTIONS,
        _SPINE_CONTRA,
    ),
    _x(
        "side-plank-knees",
        "core_stabilisation",
        "lumbar",
        "side-plank",
        ("Side plank on the knees", "跪姿侧桥"),
        (
            "Lie on your side with knees bent and your elbow under your shoulder.\n"
            "Lift your hips so that your body is straight from head to knees.\n"
            "Hold while breathing normally, then lower and change sides.",
            "侧卧, 屈膝, 肘部位于肩下。\n抬起骨盆, 使头到膝成一直线。\n正常呼吸并保持, 然后放下换边。",
        ),
        (1, 3, 15, 30, 4),
        (
            "Keep the shoulder strong and away from the ear. " + _SPINE_PRECAUTIONS[0],
            "肩部稳定, 不要耸肩。" + _SPINE_PRECAUTIONS[1],
        ),
        (
            "Shoulder pain or instability on the supporting side. " + _SPINE_CONTRA[0],
            "支撑侧肩部疼痛或不稳定时不做。" + _SPINE_CONTRA[1],
        ),
    ),
    _x(
        "dead-bug",
        "core_stabilisation",
        "lumbar",
        "dead-bug",
        ("Dead bug", "仰卧交替伸展(死虫式)"),
        (
            "Lie on your back, hips and knees bent to 90 degrees, arms pointing to the ceiling.\n"
            "Tighten your belly so your low back stays gently on the floor.\n"
            "Slowly lower one heel towards the floor, and the opposite arm behind your head.\n"
            "Return and change sides; stop the movement before your back arches.",
            "仰卧, 髋膝屈曲90度, 双臂指向天花板。\n收紧腹部, 使下背部轻贴地面。\n"
            "缓慢将一侧脚跟放向地面, 同时对侧手臂向头后放。\n回到起始位换边; 在腰部拱起之前停止动作。",
        ),
        (2, 8, 0, 30, 4),
        _SPINE_PRECAUTIONS,
        _SPINE_CONTRA,
    ),
    # --- motor control ------------------------------------------------------------------
    _x(
        "pelvic-tilt",
        "motor_control",
        "lumbar",
        "supine-knees-bent",
        ("Pelvic tilt", "骨盆前后倾"),
        (
            "Lie on your back with knees bent and feet flat.\n"
            "Gently flatten your low back onto the floor by tilting the pelvis back.\n"
            "Then let the back arch a little by tilting the pelvis forward.\n"
            "Rock slowly between the two in a pain-free range.",
            "仰卧屈膝, 双脚平放。\n骨盆后倾, 使下背部轻轻贴平地面。\n再骨盆前倾, 使腰部轻微拱起。\n在无痛范围内缓慢交替。",
        ),
        (1, 10, 0, 0, 7),
        _SPINE_PRECAUTIONS,
        _NONE,
    ),
    _x(
        "cat-camel",
        "motor_control",
        "lumbar",
        "quadruped",
        ("Cat and camel", "猫驼式"),
        (
            "Kneel on hands and knees.\n"
            "Round your back up towards the ceiling and let your head drop.\n"
            "Then let your back sag gently and lift your head.\n"
            "Move slowly and smoothly between the two.",
            "四点跪位。\n背部向上拱起, 头自然下垂。\n再让背部轻轻下沉, 抬头。\n在两者之间缓慢、平顺地交替。",
        ),
        (1, 10, 0, 0, 7),
        ("Stay in a comfortable range.", "在舒适范围内活动。"),
        ("Painful knees or wrists: ask for another start position.", "膝或腕疼痛时: 请治疗师换一种起始姿势。"),
    ),
    _x(
        "hip-hinge",
        "motor_control",
        "lumbar",
        "hip-hinge",
        ("Hip hinge with a stick", "持棍髋铰链"),
        (
            "Stand with feet hip-width apart and hold a broom handle along your back: it touches "
            "the back of your head, between the shoulder blades and your tailbone.\n"
            "Bend forward from the hips, knees slightly bent, keeping all three contact points.\n"
            "Return to standing by squeezing your buttocks.",
            "双脚与髋同宽站立, 将扫帚柄沿背部放置: 接触后脑、两肩胛之间和尾骨。\n"
            "从髋部向前屈, 膝微屈, 保持三个接触点不离开。\n夹紧臀部回到站立位。",
        ),
        (2, 10, 0, 30, 5),
        _SPINE_PRECAUTIONS,
        _NONE,
    ),
    _x(
        "sit-to-stand",
        "motor_control",
        "lower_limb",
        "sit-to-stand",
        ("Sit to stand", "坐站转移"),
        (
            "Sit near the front of a firm chair, feet under your knees.\n"
            "Lean forward from the hips with a straight back.\n"
            "Push through your heels to stand up tall.\n"
            "Sit down slowly, in control.",
            "坐在稳固椅子的前部, 双脚位于膝下。\n背部挺直, 从髋部向前倾。\n脚跟发力站直。\n有控制地慢慢坐下。",
        ),
        (2, 10, 0, 45, 5),
        ("Use your hands on the armrests if you need to.", "需要时可用手扶扶手。"),
        _NONE,
    ),
    # --- breathing ----------------------------------------------------------------------
    _x(
        "diaphragmatic-breathing",
        "breathing",
        "thoracic",
        "supine-knees-bent",
        ("Belly breathing", "腹式呼吸"),
        (
            "Lie on your back with knees bent, one hand on your chest and one on your belly.\n"
            "Breathe in through your nose so that the hand on your belly rises; the chest hand stays still.\n"
            "Breathe out slowly through pursed lips.\n"
            "Continue calmly for the number of breaths set.",
            "仰卧屈膝, 一手放胸前, 一手放腹部。\n用鼻吸气, 使腹部的手抬起, 胸前的手保持不动。\n"
            "缩唇缓慢呼气。\n平静地完成规定的呼吸次数。",
        ),
        (1, 10, 0, 0, 7),
        _BREATH_PRECAUTIONS,
        _NONE,
    ),
    _x(
        "paced-breathing",
        "breathing",
        "thoracic",
        "seated",
        ("Slow paced breathing", "慢节奏呼吸"),
        (
            "Sit comfortably with your back supported.\n"
            "Breathe in through your nose for a count of four.\n"
            "Breathe out gently for a count of six, letting your shoulders drop.\n"
            "Use this when pain flares, or before sleep.",
            "舒适坐好, 背部有支撑。\n用鼻吸气, 数到4。\n轻柔呼气, 数到6, 让双肩放松下沉。\n疼痛加重时或睡前可练习。",
        ),
        (1, 10, 0, 0, 7),
        _BREATH_PRECAUTIONS,
        _NONE,
    ),
    # --- aerobic ------------------------------------------------------------------------
    _x(
        "brisk-walking",
        "aerobic",
        "whole_body",
        "walking",
        ("Brisk walking", "快步走"),
        (
            "Walk on level ground at a pace that makes you breathe faster but still lets you talk.\n"
            "Swing your arms naturally and stand tall.\n"
            "The timer counts the minutes set; split them into two walks if that is easier.",
            "在平地上行走, 速度使呼吸加快但仍能说话。\n自然摆臂, 身体挺直。\n计时器按设定的分钟数计时; 如果更容易, 可分两次完成。",
        ),
        (1, 1, 1200, 0, 5),
        _AEROBIC_PRECAUTIONS,
        _AEROBIC_CONTRA,
    ),
    _x(
        "stationary-cycling",
        "aerobic",
        "whole_body",
        "cycling",
        ("Stationary cycling", "固定自行车"),
        (
            "Set the seat so your knee is only slightly bent at the bottom of the pedal stroke.\n"
            "Pedal at an easy resistance for two minutes to warm up.\n"
            "Then pedal at a moderate effort for the time set, sitting upright.",
            "调整座椅高度, 使踏板在最低点时膝盖只微屈。\n先以轻阻力骑2分钟热身。\n然后以中等强度骑到设定时间, 保持上身直立。",
        ),
        (1, 1, 900, 0, 3),
        _AEROBIC_PRECAUTIONS,
        _AEROBIC_CONTRA,
    ),
    # --- stretching ---------------------------------------------------------------------
    _x(
        "knee-to-chest",
        "stretching",
        "lumbar",
        "knee-to-chest",
        ("Knee to chest", "单膝抱胸"),
        (
            "Lie on your back with knees bent.\n"
            "Hold behind one knee and draw it gently towards your chest.\n"
            "Hold, feeling a stretch in the low back and buttock, then change sides.",
            "仰卧屈膝。\n双手抱住一侧膝后方, 轻轻拉向胸部。\n保持, 感到下背部和臀部的牵拉, 然后换边。",
        ),
        (1, 3, 20, 10, 7),
        _STRETCH_PRECAUTIONS,
        _STRETCH_CONTRA,
    ),
    _x(
        "hamstring-stretch",
        "stretching",
        "lower_limb",
        "leg-raise",
        ("Hamstring stretch with a towel", "毛巾辅助腘绳肌拉伸"),
        (
            "Lie on your back and loop a towel around one foot.\n"
            "Raise the leg with the knee almost straight until you feel a pull behind the thigh.\n"
            "Hold, breathe, then lower and change sides.",
            "仰卧, 用毛巾套住一只脚。\n膝关节接近伸直, 抬起该腿直到大腿后侧有牵拉感。\n保持并呼吸, 然后放下换边。",
        ),
        (1, 3, 30, 10, 7),
        (
            "Keep the foot relaxed: pulling the toes up also stretches the sciatic nerve. " + _STRETCH_PRECAUTIONS[0],
            "脚放松: 勾脚会同时牵拉坐骨神经。" + _STRETCH_PRECAUTIONS[1],
        ),
        _STRETCH_CONTRA,
    ),
    _x(
        "hip-flexor-stretch",
        "stretching",
        "hip",
        "half-kneeling",
        ("Hip flexor stretch", "髋屈肌拉伸"),
        (
            "Kneel on one knee on a cushion, the other foot flat in front.\n"
            "Tuck your tailbone under and shift your weight gently forward.\n"
            "Feel the stretch at the front of the hip of the kneeling leg; hold and change sides.",
            "单膝跪在垫子上, 另一脚在前平放。\n尾骨内收, 重心轻轻前移。\n感到跪地侧髋前方的牵拉; 保持后换边。",
        ),
        (1, 3, 30, 10, 5),
        _STRETCH_PRECAUTIONS,
        _STRETCH_CONTRA,
    ),
    _x(
        "prone-press-up",
        "stretching",
        "lumbar",
        "prone-press-up",
        ("Press-up lying on your front", "俯卧撑起(腰椎后伸)"),
        (
            "Lie on your front with your hands under your shoulders.\n"
            "Keep your hips on the floor and let your back relax.\n"
            "Straighten your arms slowly to lift your chest, as far as is comfortable.\n"
            "Lower slowly.",
            "俯卧, 双手放在肩下。\n骨盆贴地, 腰背放松。\n缓慢伸直手臂撑起胸部, 以舒适为度。\n缓慢放下。",
        ),
        (1, 10, 2, 0, 7),
        (
            "If leg pain moves further down the leg while doing this, stop and tell your therapist.",
            "如果练习时腿痛向更远端放射, 停止并告诉治疗师。",
        ),
        _SPINE_CONTRA,
    ),
    _x(
        "piriformis-stretch",
        "stretching",
        "hip",
        "figure-four",
        ("Buttock stretch (figure four)", "臀部拉伸(4字形)"),
        (
            "Lie on your back with knees bent.\n"
            "Cross one ankle over the other knee.\n"
            "Draw the lower leg towards your chest until you feel a stretch in the buttock.\n"
            "Hold, then change sides.",
            "仰卧屈膝。\n将一侧脚踝搭在另一侧膝上。\n将下方的腿拉向胸部, 直到臀部有牵拉感。\n保持后换边。",
        ),
        (1, 3, 30, 10, 7),
        _STRETCH_PRECAUTIONS,
        _STRETCH_CONTRA,
    ),
    # --- nerve gliding ------------------------------------------------------------------
    _x(
        "sciatic-slider-seated",
        "nerve_gliding",
        "lower_limb",
        "seated-slider",
        ("Sciatic nerve glide, sitting", "坐姿坐骨神经滑动"),
        (
            "Sit on a chair, back straight, hands behind your back.\n"
            "Straighten one knee and pull the toes up while you look up to the ceiling.\n"
            "Then bend the knee and point the toes while you bring your chin down.\n"
            "Keep the movement smooth and rhythmic; do the set, then the other leg if prescribed.",
            "坐在椅子上, 背部挺直, 双手放在背后。\n伸直一侧膝关节并勾脚, 同时抬头看天花板。\n"
            "再屈膝并绷脚, 同时低头收下巴。\n动作平稳有节奏; 完成一组后, 如医嘱需要再做另一侧。",
        ),
        (2, 10, 0, 30, 7),
        _GLIDE_PRECAUTIONS,
        _GLIDE_CONTRA,
    ),
    _x(
        "sciatic-slider-supine",
        "nerve_gliding",
        "lower_limb",
        "leg-raise",
        ("Sciatic nerve glide, lying", "仰卧坐骨神经滑动"),
        (
            "Lie on your back and hold behind one thigh with the hip bent to about 90 degrees.\n"
            "Straighten the knee while pointing the toes away.\n"
            "Bend the knee while pulling the toes towards you.\n"
            "Move back and forth smoothly, never into a strong stretch.",
            "仰卧, 双手抱住一侧大腿后方, 髋关节屈曲约90度。\n伸直膝关节, 同时绷脚尖。\n屈膝, 同时勾脚。\n"
            "平稳地来回活动, 不要进入强烈牵拉。",
        ),
        (2, 10, 0, 30, 7),
        _GLIDE_PRECAUTIONS,
        _GLIDE_CONTRA,
    ),
    _x(
        "femoral-slider",
        "nerve_gliding",
        "lower_limb",
        "side-lying-knee-bend",
        ("Femoral nerve glide, side lying", "侧卧股神经滑动"),
        (
            "Lie on your unaffected side, hugging the lower knee to your chest.\n"
            "Hold the ankle of the top leg (or use a towel) with the knee bent.\n"
            "Gently move the top thigh backwards while you lift your head back.\n"
            "Bring the thigh forward again while you tuck your chin; repeat smoothly.",
            "健侧在下侧卧, 下方膝关节抱向胸部。\n用手(或毛巾)握住上方腿的脚踝, 保持屈膝。\n"
            "轻轻将上方大腿向后移动, 同时头向后仰。\n大腿回到前方, 同时收下巴; 平稳重复。",
        ),
        (2, 10, 0, 30, 7),
        _GLIDE_PRECAUTIONS,
        _GLIDE_CONTRA,
    ),
    _x(
        "tibial-slider",
        "nerve_gliding",
        "lower_limb",
        "leg-raise",
        ("Tibial nerve glide", "胫神经滑动"),
        (
            "Lie on your back with the leg supported on a cushion, knee slightly bent.\n"
            "Pull the foot up and turn the sole slightly outwards while you bend the knee a little more.\n"
            "Then point the foot down while you straighten the knee.\n"
            "Keep the movements small and easy; the goal is movement, not stretch.",
            "仰卧, 小腿垫在靠垫上, 膝微屈。\n勾脚并使脚底稍向外翻, 同时膝关节再稍屈一点。\n"
            "然后绷脚, 同时伸直膝关节。\n动作幅度小而轻松; 目的是活动, 而不是拉伸。",
        ),
        (2, 10, 0, 30, 7),
        (
            "Useful for tarsal tunnel symptoms (burning under the foot). " + _GLIDE_PRECAUTIONS[0],
            "适用于跗管症状(足底烧灼感)。" + _GLIDE_PRECAUTIONS[1],
        ),
        _GLIDE_CONTRA,
    ),
    _x(
        "median-slider",
        "nerve_gliding",
        "upper_limb",
        "arm-glide",
        ("Median nerve glide", "正中神经滑动"),
        (
            "Stand or sit tall with the arm out to the side at shoulder height, elbow bent, palm up.\n"
            "Straighten the elbow and bend the wrist back while you tilt your head towards that arm.\n"
            "Bend the elbow and let the wrist relax while you tilt your head away.\n"
            "Repeat slowly, with the shoulder kept down.",
            "站或坐直, 手臂侧平举至肩高, 屈肘, 掌心向上。\n伸直肘关节并背伸手腕, 同时头向该侧倾斜。\n"
            "屈肘并放松手腕, 同时头向对侧倾斜。\n缓慢重复, 肩部保持下沉。",
        ),
        (2, 10, 0, 30, 7),
        (
            "Useful for carpal tunnel symptoms (tingling in the thumb and first fingers). " + _GLIDE_PRECAUTIONS[0],
            "适用于腕管症状(拇指和前几指发麻)。" + _GLIDE_PRECAUTIONS[1],
        ),
        _GLIDE_CONTRA,
    ),
    _x(
        "ulnar-slider",
        "nerve_gliding",
        "upper_limb",
        "arm-glide",
        ("Ulnar nerve glide", "尺神经滑动"),
        (
            "Hold the arm out to the side, elbow straight, palm facing down.\n"
            "Bend the elbow and bend the wrist back, bringing the palm towards your ear, while you "
            "tilt your head away from the arm.\n"
            "Straighten the arm again while you bring your head back to the middle.\n"
            "Repeat slowly in a comfortable range.",
            "手臂侧平举, 肘伸直, 掌心向下。\n屈肘并背伸手腕, 使手掌靠近耳朵, 同时头向对侧倾斜。\n"
            "再伸直手臂, 同时头回到正中。\n在舒适范围内缓慢重复。",
        ),
        (2, 10, 0, 30, 7),
        (
            "Useful for cubital tunnel symptoms (tingling in the ring and little fingers). Avoid leaning "
            "on the elbow during the day. " + _GLIDE_PRECAUTIONS[0],
            "适用于肘管症状(环指和小指发麻)。白天避免用肘部支撑。" + _GLIDE_PRECAUTIONS[1],
        ),
        _GLIDE_CONTRA,
    ),
)
